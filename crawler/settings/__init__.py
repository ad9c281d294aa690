"""What the user asked for: the settings table and its sources (defaults < TOML < env <
flags), credentials from the environment, and the organization URL."""
