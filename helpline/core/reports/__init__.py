"""Reports: figures from the content-free statistics rows, never from a transcript, an address or a record."""
