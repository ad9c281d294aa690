"""The benchmark suite of ado-inventory: emulator in its own process, crawler as a child.

``python -m bench`` runs every scenario; ``python -m bench latency-bound`` runs one.
"""
