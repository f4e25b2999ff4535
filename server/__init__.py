"""Circle's relay: the room authority (pure), the websocket relay and its store."""
