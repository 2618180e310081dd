"""Documents made from a user's data: a history entry as a PDF."""

from infrastructure.documents.pdf import PdfHistoryRenderer

__all__ = ["PdfHistoryRenderer"]
