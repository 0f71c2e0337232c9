"""tradesweep.data"""
