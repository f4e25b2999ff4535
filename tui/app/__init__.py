"""The Textual app: screens and widgets over the client model."""
