"""Report definitions: their schema, how they are found and loaded, their reference page, and the indicators they declare."""
