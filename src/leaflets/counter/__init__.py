"""The counter: `leaflets serve`, a thin web adapter over the same library calls as the CLI.
app builds the ASGI application (its routes call the library, nothing more); server checks how it
may listen and runs it under uvicorn; users keeps the counter's people (Argon2id hashes, lockout).
So far it answers the URL every label's QR code carries, /monographs/<slug>, without sign-in."""
