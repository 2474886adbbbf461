"""The small core every layer may use: settings, the clock, signing keys, safe YAML, errors."""
