"""Where transcripts come from: YouTube captions."""
