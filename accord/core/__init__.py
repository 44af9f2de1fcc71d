"""Small pieces every app shares: errors, and how views declare their permission."""
