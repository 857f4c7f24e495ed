"""HTTP surfaces: Roost's own API and one folder per compatible product."""
