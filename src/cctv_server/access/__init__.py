"""Access control: accounts and roles, camera tokens, sessions, share links, sign-in limits, the audit log."""
