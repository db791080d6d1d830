"""The Faust worker: the command decider and (later) the clipping and publishing agents."""
