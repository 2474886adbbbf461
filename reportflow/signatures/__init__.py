"""Digital signatures on the issued PDF (Decree 30/2020, Điều 5): the signer's, then the number,
then the agency's; and the check that a file carries them in that order (pyHanko, PAdES)."""
