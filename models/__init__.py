"""The shipped model lives here; it is installed as package data of noiseclf."""
