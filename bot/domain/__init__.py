"""The domain's pure values and rules, importing nothing of the project: models, the Chinese text
index, time (one clock), topics as data, text made safe to show."""
