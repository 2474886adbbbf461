"""The division heads' web route: personal signed links, the section page, preview and receipt."""
