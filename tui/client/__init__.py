"""The headless client: the connection, the meeting model and its narrator. No Textual."""
