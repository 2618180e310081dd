"""Data several layers of tests share; the files beside this module are real-looking transcripts."""

# Long enough to be processed, short enough for one provider call: the everyday transcript of processing tests.
TRANSCRIPT = " ".join(
    f"Sentence number {i} explains how plants turn light, water and carbon dioxide into sugar and oxygen."
    for i in range(40)
)
