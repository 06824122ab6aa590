"""Every string of the chat, in French and English: `tr("new_chat", "fr")`."""

from __future__ import annotations

LANGS = ("fr", "en")
LANG_NAMES = {"fr": "Français", "en": "English"}
MONTHS = {
    "fr": ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
           "novembre", "décembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}

# Shown on the empty screen in both languages: the system answers either way.
EXAMPLES = [
    "Avec quel pape Poutine s'est-il entretenu par téléphone ?",
    "Combien de temps a duré l'appel entre Poutine et Trump le 3 juillet ?",
    "What did Putin tell Trump about the Ukrainian drone attack?",
    "When did Trump announce his call with Putin?",
]

TEXTS: dict[str, dict[str, str]] = {
    "title": {"fr": "Interrogez les articles", "en": "Ask the articles"},
    "intro": {
        "fr": "Posez une question en français ou en anglais : chaque réponse cite les passages des articles "
              "d'où elle vient. Cliquez sur une source pour lire le passage surligné dans son article.",
        "en": "Ask in French or English: every answer cites the article passages it comes from. "
              "Click a source to read the passage highlighted in its article.",
    },
    "examples": {"fr": "Essayez par exemple :", "en": "Try for example:"},
    "placeholder": {"fr": "Posez une question sur les articles…", "en": "Ask a question about the articles…"},
    "new_chat": {"fr": "Nouvelle conversation", "en": "New conversation"},
    "language": {"fr": "Langue de l'interface", "en": "Interface language"},
    "searching": {"fr": "Recherche dans les articles…", "en": "Searching the articles…"},
    "waiting": {
        "fr": "Une autre question est en cours de réponse ; la vôtre suit…",
        "en": "Another question is being answered; yours is next…",
    },
    "loading_models": {"fr": "Chargement des modèles (une seule fois)…", "en": "Loading the models (once)…"},
    "sources": {"fr": "Sources", "en": "Sources"},
    "abstained": {
        "fr": "Aucun passage des articles ne répond à cette question. Reformulez-la, ou ajoutez des articles "
              "dans le panneau de gauche.",
        "en": "No passage of the articles answers this question. Rephrase it, or add articles in the left panel.",
    },
    "read_article": {"fr": "Lire l'article complet", "en": "Read the whole article"},
    "article_caption": {"fr": "Le passage cité est surligné.", "en": "The cited passage is highlighted."},
    "file": {"fr": "Fichier", "en": "File"},
    "score": {"fr": "score de recherche", "en": "retrieval score"},
    "seconds": {"fr": "Réponse en {s:.1f} s", "en": "Answered in {s:.1f} s"},
    "passages_seen": {"fr": "Passages consultés ({n})", "en": "Passages consulted ({n})"},
    "article_moved": {
        "fr": "L'article a changé ou a été retiré depuis l'indexation ; voici le passage tel qu'indexé.",
        "en": "The article changed or was removed since it was indexed; here is the passage as indexed.",
    },
    "interrupted": {
        "fr": "La réponse précédente a été interrompue.",
        "en": "The previous answer was interrupted.",
    },
    "retry": {"fr": "Réessayer", "en": "Try again"},
    # Sidebar
    "corpus": {"fr": "Corpus", "en": "Corpus"},
    "articles": {"fr": "Articles", "en": "Articles"},
    "chunks": {"fr": "Passages indexés", "en": "Indexed passages"},
    "last_indexed": {"fr": "Dernière indexation : {when}", "en": "Last indexed: {when}"},
    "never": {"fr": "jamais", "en": "never"},
    "pending": {
        "fr": "{n} article(s) pas encore indexé(s) : réindexez.",
        "en": "{n} article(s) not indexed yet: re-index.",
    },
    "reindex": {"fr": "Réindexer", "en": "Re-index"},
    "indexing": {"fr": "Indexation… {done}/{total} passages", "en": "Indexing… {done}/{total} passages"},
    "indexed": {
        "fr": "Index à jour : {added} ajouté(s), {updated} mis à jour, {removed} retiré(s) ; {chunks} passages.",
        "en": "Index up to date: {added} added, {updated} updated, {removed} removed; {chunks} passages.",
    },
    "skipped": {"fr": "{source} ignoré : {reason}", "en": "{source} skipped: {reason}"},
    "add_articles": {"fr": "Ajouter des articles", "en": "Add articles"},
    "uploader": {
        "fr": "Fichiers texte .txt ou .md (UTF-8 de préférence, {mb} Mo max)",
        "en": "Text files .txt or .md (UTF-8 preferably, {mb} MB max)",
    },
    "add_button": {"fr": "Ajouter et indexer", "en": "Add and index"},
    "added": {"fr": "Ajouté : {name}", "en": "Added: {name}"},
    "refused": {"fr": "Refusé : {reason}", "en": "Refused: {reason}"},
    "settings": {"fr": "Réglages", "en": "Settings"},
    "top_k": {"fr": "Passages donnés au modèle", "en": "Passages given to the model"},
    "top_k_help": {
        "fr": "Plus de passages : plus de chances de trouver la réponse, mais une réponse plus lente.",
        "en": "More passages: better odds of finding the answer, but a slower answer.",
    },
    "show_scores": {"fr": "Afficher les scores de recherche", "en": "Show retrieval scores"},
    # No index yet
    "no_index": {
        "fr": "Les articles ne sont pas encore indexés : il faut construire l'index avant de poser une question "
              "(quelques secondes à quelques minutes).",
        "en": "The articles are not indexed yet: build the index before asking a question "
              "(a few seconds to a few minutes).",
    },
    "build_index": {"fr": "Construire l'index", "en": "Build the index"},
    "details": {"fr": "Détail technique : {detail}", "en": "Technical detail: {detail}"},
    # Errors: what happened, then what to do
    "err_IndexMissing": {
        "fr": "**Les articles ne sont pas encore indexés.** Construisez l'index avec le bouton ci-dessous : "
              "la question sera posée dès qu'il sera prêt.",
        "en": "**The articles are not indexed yet.** Build the index with the button below: "
              "the question will be asked as soon as it is ready.",
    },
    "err_too_long": {
        "fr": "**Question trop longue** ({n} caractères ; la limite est {limit}). Raccourcissez-la et renvoyez-la.",
        "en": "**The question is too long** ({n} characters; the limit is {limit}). Shorten it and send it again.",
    },
    "err_InvalidQuestion": {
        "fr": "**Cette question ne peut pas être traitée.** Tapez une question sur les articles.",
        "en": "**This question cannot be handled.** Type a question about the articles.",
    },
    "err_ModelMissing": {
        "fr": "**Le modèle n'est pas installé.** Dans un terminal, lancez `make chat` (ou `rag model`), "
              "puis reposez la question.",
        "en": "**The model is not installed.** In a terminal, run `make chat` (or `rag model`), then ask again.",
    },
    "err_LLMUnavailable": {
        "fr": "**Le modèle de langue ne répond pas.** Vérifiez qu'il est démarré, puis réessayez.",
        "en": "**The language model cannot be reached.** Check that it is running, then try again.",
    },
    "err_LLMError": {
        "fr": "**Le modèle a échoué pendant la réponse.** La réponse partielle a été écartée. "
              "Réessayez ; si cela persiste, posez une question plus courte.",
        "en": "**The model failed while answering.** The partial answer was discarded. "
              "Try again; if it keeps failing, ask a shorter question.",
    },
    "err_IndexIncompatible": {
        "fr": "**L'index a été construit avec un autre modèle d'embeddings.** Il faut le reconstruire "
              "(voir le détail ci-dessous).",
        "en": "**The index was built with another embedding model.** It must be rebuilt (see the detail below).",
    },
    "err_StoreBusy": {
        "fr": "**L'index est en cours de mise à jour.** Réessayez dans un instant.",
        "en": "**The index is being updated.** Try again in a moment.",
    },
    "err_StoreUnavailable": {
        "fr": "**L'index ne peut pas être ouvert.** Voir le détail ci-dessous.",
        "en": "**The index cannot be opened.** See the detail below.",
    },
    "err_DocumentError": {
        "fr": "**Un article ne peut pas être lu.** Voir le détail ci-dessous.",
        "en": "**An article cannot be read.** See the detail below.",
    },
    "err_ConfigError": {
        "fr": "**La configuration est invalide.** Corrigez la variable d'environnement indiquée, "
              "puis relancez le chat.",
        "en": "**The configuration is invalid.** Fix the environment variable named below, then restart the chat.",
    },
    "err_RagError": {
        "fr": "**La question n'a pas pu aboutir.** Voir le détail ci-dessous.",
        "en": "**The question could not be answered.** See the detail below.",
    },
    "err_unexpected": {
        "fr": "**Erreur inattendue.** Réessayez ; si elle se reproduit, le journal du serveur en donne le détail.",
        "en": "**Unexpected error.** Try again; if it happens again, the server log has the details.",
    },
}


def tr(key: str, lang: str, **values: object) -> str:
    """The text `key` in `lang` (French when unknown), with `{placeholders}` filled in."""
    entry = TEXTS[key]
    text = entry.get(lang) or entry["fr"]
    return text.format(**values) if values else text
