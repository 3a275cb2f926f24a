"""Evidence audit: consistency checks of the reported numbers and of the source paper."""
