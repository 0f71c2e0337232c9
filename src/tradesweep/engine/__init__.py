"""tradesweep.engine"""
