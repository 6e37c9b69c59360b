// A user's program: links qsim::qsim from an installed package and uses its API.
#include <iostream>

#include <qsim/qsim.hpp>

int main() {
  std::cout << "qsim " << qsim::version() << "\n";
  std::cout << "qsim consumer ok\n";
  return 0;
}
