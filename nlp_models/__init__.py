"""Analysis: language, sentiment, question/help request, intent, empathy cues, priority, FAQ grouping."""
