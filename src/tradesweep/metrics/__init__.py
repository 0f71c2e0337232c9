"""tradesweep.metrics"""
