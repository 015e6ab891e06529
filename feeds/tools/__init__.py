"""The tools behind the command line that are not serving: the demo blog, the feed
checker and the static export."""
