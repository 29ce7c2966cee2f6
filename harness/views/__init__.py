"""Views for people learning cascades: a trace walked step by step, in words and pictures."""
