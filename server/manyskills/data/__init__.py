"""Training-data pipeline: harvest real code, extract functions, build supervision per skill."""
