"""Evaluation of docqa's retrieval and answers against a labelled question set.

Every quality claim of the project comes from this package, so it is strict: the judging rule is
the one in `/work/shared/eval/README.md` (see `eval.judging`), question files are validated line by
line (`eval.questions`), metrics come from `ranx` on qrels derived per run (`eval.metrics`), and
`eval.evaluate` writes a reproducible report. Nothing heavy is imported here: `import eval` stays cheap.
"""


from docqa.errors import DocqaError


class EvalError(DocqaError, ValueError):
    """A problem with the evaluation's input (question file, options, report file) the user must fix."""
