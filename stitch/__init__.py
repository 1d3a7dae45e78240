"""Stitching: stitch points, matching, plans and cycles, the supernetwork, decoding, fitting, refinement."""
