"""Query → keyword and dense candidates → fusion → diversity → hits → a cited answer."""
