"""A Word upload as a file: its package opened once (every part decompressed one time, within
its limits), its XML checked, and python-docx's document made from those parts in memory. The
reader of its text is `reading/word.py`."""
