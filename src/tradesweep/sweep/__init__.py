"""tradesweep.sweep"""
