"""English news words in French, so that an English question shares words with French passages.

Dense retrieval already crosses languages; the words a sentence shares with the question
(`rag.passages.focus`) did not: "What topics did Trump say the call would cover?" shared
nothing with "les sujets de l'appel seront ...". A small general glossary of the words
news questions use (no names: those are read as they are) closes part of the distance at
no cost, where a translation by the local model took 1.4 s (README).

>>> in_french("What topics did Trump say the call would cover?")
'What sujets did Trump say the appel would cover?'
>>> in_french("Were prisoners exchanged after the talks?")
'Were prisonniers échangés after the pourparlers?'
"""

from __future__ import annotations

import re

from rag.normalize import language
from rag.weekdays import in_french as _calendar

# English word (and its plural or past forms) -> French words, lower case. General news
# vocabulary: politics, diplomacy, war, economy, justice, disasters, society.
_WORDS = """
abordé évoqué=discussed,come up,came up,brought up,raised|
accord=agreement,agreements,deal,deals|accuser=accuse,accused,accuses|aide=aid|
aérodromes=airfield,airfields,airbase,airbases,airport,airports|alliés=allies,ally|
annexion=annexation|annonce=announcement,announced,announce|appel=call,calls,phone call|
armée=army|militaire=military|armes=weapon,weapons,arms|arrestation=arrest,arrested|
attaque=attack,attacks,attacked,assault|avance=ahead of time,in advance,advance notice,beforehand|
avions=plane,planes,aircraft,jets|
blessés=injured,wounded,hurt|bombardiers=bomber,bombers|budget=budget|
cessez-le-feu=ceasefire,cease-fire|chef=head,chief|commerce=trade,commerce|
communiqué=statement,press release|conflit=conflict|conseiller=adviser,advisor,aide|
conversation=conversation,conversations|crise=crisis|décision=decision|
délégation=delegation,delegations|démission=resignation,resigned|destruction=destruction,destroyed|
dépôts=depot,depots|déraillement=derailment,derailments,derailed|diplomatie=diplomacy|
dirigeant=leader,leaders|document=document,documents|drones=drone,drones|
échange=exchange,exchanged,exchanges,swap,swapped|échangés=exchanged,swapped|
économie=economy|élection=election,elections|énergie=energy|enfants=children,child,kids|
entretien=talk,interview|envoyé=envoy|escalade=escalation|explosions=explosion,explosions,blasts|
forces=forces|frappes=strike,strikes,struck,airstrike,airstrikes|frontière=border|fuseau horaire=time zone,timezone|
gouvernement=government|guerre=war|habitants=residents,inhabitants|hôpital=hospital|
incendie=blaze|informé=informed,notified,forewarned|infrastructures=infrastructure|invasion=invasion|juge=judge|
livraisons=deliveries,delivery,shipments,shipment|loi=law,bill|manifestation=protest,demonstration|
marine=navy|médiation=mediation|mémorandum=memorandum|menace=threat,threatened,threats|
ministre=minister|missiles=missile,missiles|morts=dead,deaths,died,fatalities|
munitions=ammunition,munitions|négociations=negotiations,negotiation,negotiators|
objectifs=goals,objectives,aims|occupées=occupied|offensive=offensive|opération=operation|
paix=peace|pape=pope|parlement=parliament|plan=plan|police=police|pourparlers=talks|
président=president|prisonniers=prisoners,prisoner,pows|progrès=progress|projets=projects|
proposition=proposal|rencontre=meeting,meetings,met|régions=regions,region,provinces|
réunion=briefing|riposte=retaliation,retaliate|
sanctions=sanctions|secrétaire=secretary|soldats=soldiers,soldier|sommet=summit|
soutien=support,backing|spatial=space|sujets=topics,topic,subjects,subject,issues|
territoire=territory,territories|terreur=terror,terrorism|tués=killed|trains=train,trains|
trêve=truce|troupes=troops|usine=plant,factory|victimes=victims,casualties|
visite=visit,visited,visiting,visits|vote=vote
"""
_TO_FRENCH = {
    english.strip(): french
    for entry in _WORDS.replace("\n", "").split("|")
    for french, englishes in [entry.split("=")]
    for english in englishes.split(",")
}
_ENGLISH = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _TO_FRENCH), key=len, reverse=True)) + r")\b", re.I)


def in_french(text: str) -> str:
    """`text` with English weekday and month names in French and, when it is English, its
    general news words too (a French "aide" or "session" stays as it is).

    >>> in_french("Quelle aide ?"), in_french("Which aide?")
    ('Quelle aide ?', 'Which conseiller?')
    """
    text = _calendar(text)
    return _ENGLISH.sub(lambda m: _TO_FRENCH[m.group(1).lower()], text) if language(text) == "en" else text
