"""docqa: search and cited answers over Dutch public-sector policy documents.

The public API is small:

    import docqa
    engine = docqa.open_engine("var/index")         # or DOCQA_INDEX; model from DOCQA_MODEL
    result = engine.search("welke norm geldt voor beschikbaarheid Suwinet", k=5)
    answer = engine.ask("welke norm geldt voor beschikbaarheid Suwinet")
    print(answer.answer, answer.citations[0].reference())

`Engine` (docqa.engine) also gives `context`, `documents`, `highlight` and `info`; every problem a
user can fix raises a `docqa.DocqaError` subclass with a message that says what to do.
"""

__version__ = "0.1.0"

from docqa.errors import DocqaError, QueryError, SettingsError  # noqa: E402  (light: no heavy imports)

__all__ = ["DocqaError", "QueryError", "SettingsError", "open_engine", "Engine", "EngineSettings", "__version__"]


def __getattr__(name: str):
    # the engine pulls in numpy, FAISS and the readers: imported on first use, not with `import docqa`
    if name in ("open_engine", "Engine", "EngineSettings"):
        from docqa import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'docqa' has no attribute {name!r}")
