"""finews-bot: watches Chinese finance news sources, stores them once, answers keyword queries."""
