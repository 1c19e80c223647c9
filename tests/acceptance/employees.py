"""An employees-shaped schema (after MySQL's employees sample database).

employees with four children (dept_emp, dept_manager, titles, salaries), all
ON DELETE CASCADE, composite primary keys, 20,000 employees and 300,000
salary rows; departments as a second parent of dept_emp and dept_manager.
"""

from __future__ import annotations

from tests.acceptance.scenario import Scenario, versioned

EMPLOYEES = 20_000
SALARIES_EACH = 15  # 300,000 salary rows

_CASCADE = "REFERENCES employees (emp_no) ON DELETE CASCADE"


def _assignment(name: str) -> str:
    """dept_emp and dept_manager: who works in (or manages) which department, and since when."""
    return (
        f"CREATE TABLE {name} ("
        + versioned(
            "emp_no INT NOT NULL, dept_no CHAR(4) NOT NULL, from_date DATE NOT NULL,"
            " to_date DATE NOT NULL, PRIMARY KEY (emp_no, dept_no),"
            f" FOREIGN KEY (emp_no) {_CASCADE},"
            " FOREIGN KEY (dept_no) REFERENCES departments (dept_no) ON DELETE CASCADE"
        )
        + ") WITH SYSTEM VERSIONING"
    )


def setup(
    employees: int = EMPLOYEES, salaries_each: int = SALARIES_EACH, *, indexed: bool = False
) -> tuple[str, ...]:
    """``indexed``: salaries too gets explicit period columns with ``row_end`` indexed, as
    ``doctor`` advises; by default it keeps implicit ones, whose history must be scanned."""
    salaries = (
        "emp_no INT NOT NULL, salary INT NOT NULL, from_date DATE NOT NULL,"
        f" to_date DATE NOT NULL, PRIMARY KEY (emp_no, from_date), FOREIGN KEY (emp_no) {_CASCADE}"
    )
    return (
        "CREATE TABLE departments ("
        + versioned("dept_no CHAR(4) PRIMARY KEY, dept_name VARCHAR(40) NOT NULL UNIQUE")
        + ") WITH SYSTEM VERSIONING",
        "CREATE TABLE employees ("
        + versioned(
            "emp_no INT PRIMARY KEY, birth_date DATE NOT NULL, first_name VARCHAR(14) NOT NULL,"
            " last_name VARCHAR(16) NOT NULL, gender ENUM('M','F') NOT NULL,"
            " hire_date DATE NOT NULL"
        )
        + ") WITH SYSTEM VERSIONING",
        _assignment("dept_emp"),
        _assignment("dept_manager"),
        "CREATE TABLE titles ("
        + versioned(
            "emp_no INT NOT NULL, title VARCHAR(50) NOT NULL, from_date DATE NOT NULL,"
            " to_date DATE, PRIMARY KEY (emp_no, title, from_date),"
            f" FOREIGN KEY (emp_no) {_CASCADE}"
        )
        + ") WITH SYSTEM VERSIONING",
        f"CREATE TABLE salaries ({versioned(salaries) if indexed else salaries})"
        " WITH SYSTEM VERSIONING",
        "INSERT INTO departments (dept_no, dept_name) SELECT CONCAT('d00', seq),"
        " ELT(seq, 'Marketing', 'Finance', 'Human Resources', 'Production', 'Development',"
        " 'Quality Management', 'Sales', 'Research', 'Customer Service') FROM seq_1_to_9",
        "INSERT INTO employees (emp_no, birth_date, first_name, last_name, gender, hire_date)"
        " SELECT 10000 + seq, '1952-02-01' + INTERVAL (seq * 7) % 4000 DAY, CONCAT('Given', seq),"
        " CONCAT('Family', seq % 997), IF(seq % 2, 'M', 'F'),"
        f" '1985-01-01' + INTERVAL seq % 5000 DAY FROM seq_1_to_{employees}",
        "INSERT INTO dept_emp (emp_no, dept_no, from_date, to_date) SELECT emp_no,"
        " CONCAT('d00', 1 + emp_no % 9), hire_date, '9999-01-01' FROM employees",
        "INSERT INTO dept_manager (emp_no, dept_no, from_date, to_date)"
        " SELECT emp_no, CONCAT('d00', 1 + emp_no % 9), hire_date, '9999-01-01'"
        " FROM employees WHERE emp_no % 1000 < 2",
        "INSERT INTO titles (emp_no, title, from_date, to_date) SELECT emp_no, 'Engineer',"
        " hire_date, hire_date + INTERVAL 5 YEAR FROM employees",
        "INSERT INTO titles (emp_no, title, from_date, to_date) SELECT emp_no, 'Senior Engineer',"
        " hire_date + INTERVAL 5 YEAR, NULL FROM employees WHERE emp_no % 3 = 0",
        "INSERT INTO salaries (emp_no, salary, from_date, to_date)"
        " SELECT e.emp_no, 40000 + (e.emp_no * 7 + s.seq * 1013) % 60000,"
        " e.hire_date + INTERVAL s.seq - 1 YEAR, e.hire_date + INTERVAL s.seq YEAR"
        f" FROM employees e JOIN seq_1_to_{salaries_each} s",
    )


# hire_date = 1985-01-01 + (emp_no - 10000) % 5000 days: the first half of 1985 is
# emp_no % 5000 in 0..180, about 724 people of 20,000.
FIRST_HALF_1985 = "hire_date BETWEEN '1985-01-01' AND '1985-06-30'"

SCENARIO = Scenario(
    name="employees: a first-half-of-1985 cleanup cascades into four tables",
    setup=setup(),
    disaster=(f"DELETE FROM employees WHERE {FIRST_HALF_1985}",),
    table="employees",
    later=(
        "INSERT INTO employees VALUES (40001, '1990-01-01', 'New', 'Hire', 'F', CURDATE())",
        "INSERT INTO salaries VALUES (40001, 65000, CURDATE(), '9999-01-01')",
        "INSERT INTO dept_emp VALUES (40001, 'd005', CURDATE(), '9999-01-01')",
        "UPDATE salaries SET salary = salary + 1000 WHERE emp_no = 11000",
        "UPDATE employees SET last_name = 'Married' WHERE emp_no = 11001",
        "DELETE FROM titles WHERE emp_no = 11002",
    ),
)
