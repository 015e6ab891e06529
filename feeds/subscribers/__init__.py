"""Who follows each feed: the subscriber counts aggregators report in their User-Agent, and
the readers that report none, tallied in memory and written to the store in the background."""
