"""Pure decisions: ``decide(command, state, now)`` and ``evolve(state, event)``, no I/O."""
