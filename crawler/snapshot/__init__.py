"""The artifact: the snapshot writer (encode, spill, sort, atomic output), its line
layout, the streaming reader, the JSON Schema, validation and the unread-scope rule."""
