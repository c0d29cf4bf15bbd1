"""PixMo-Points: checks on the annotation app's points records (a referring expression and its clicks)."""
