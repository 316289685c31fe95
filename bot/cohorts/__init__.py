"""Cohorts: members, progress, digests, exports, peer mocks, calibration; imports rubric, content, store."""
