"""Paper trading: candle sources, the event bus and the pipeline on them."""
