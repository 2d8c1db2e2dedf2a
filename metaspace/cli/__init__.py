"""The ``metaspace`` command: argument parsing (``main``), client commands, birth questionnaire, demo."""
