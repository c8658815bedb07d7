"""The fact store: records, dates, validation, authoring and card generation."""
