"""Every user-facing word, Chinese first, one module per reader, in one place to review and translate.

:mod:`bot.texts.cli` (the operator at a terminal), :mod:`bot.texts.chat` (anyone in a chat),
:mod:`bot.texts.digest` (the digest's readers), :mod:`bot.texts.sources` (a source's health, said
alike to all). Like :mod:`bot.domain` these import nothing: every floor may use them.
"""
