"""Playback: playlists, HLS text, the player's day view, and clip export, all read from the footage model."""
