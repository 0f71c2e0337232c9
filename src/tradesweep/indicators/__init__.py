"""tradesweep.indicators"""
