"""What the pages show: captions and tables (with CSV copies), figures, verdict badges and boxes, the energy
scales of the introduction, the scorecard and its claims, the page parameters (schema) and the cost table.
"""
