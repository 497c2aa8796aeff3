"""PySide6 windows, dialogs and Qt models. Thin: everything goes through ``core`` services."""
