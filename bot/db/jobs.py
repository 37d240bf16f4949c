"""The table APScheduler's SQLAlchemyJobStore keeps reminders in, owned by our migrations.

Same shape as the job store's own definition (apscheduler/jobstores/sqlalchemy.py, 3.11), so
its create-if-missing at start finds it and does nothing.
"""

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from bot.db.base import Base

apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
