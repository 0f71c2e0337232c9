"""tradesweep.strategies"""
