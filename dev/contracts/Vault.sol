// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

interface IERC20Like {
    function transfer(address to, uint256 amount) external returns (bool);
    function balanceOf(address who) external view returns (uint256);
}

/// Deliberately vulnerable vault (test target). Storage:
/// slot 0 = owner (bytes 0..19) + paused (byte 20), packed on purpose; slot 1 = guardian;
/// slot 2 = token; slot 3 = deposits mapping; slot 4 = totalDeposits.
contract Vault {
    address public owner;
    bool public paused;
    address public guardian;
    IERC20Like public token;
    mapping(address => uint256) public deposits;
    uint256 public totalDeposits;

    event OwnerChanged(address indexed previous, address indexed next);
    event Paused(address indexed by);

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    modifier whenNotPaused() {
        require(!paused, "paused");
        _;
    }

    constructor(address guardian_, IERC20Like token_) payable {
        owner = msg.sender;
        guardian = guardian_;
        token = token_;
    }

    receive() external payable {
        deposits[msg.sender] += msg.value;
        totalDeposits += msg.value;
    }

    function deposit() external payable whenNotPaused {
        deposits[msg.sender] += msg.value;
        totalDeposits += msg.value;
    }

    function withdraw(uint256 amount) external whenNotPaused {
        deposits[msg.sender] -= amount;
        totalDeposits -= amount;
        (bool ok, ) = msg.sender.call{value: amount}("");
        require(ok, "send failed");
    }

    function pause() external {
        require(msg.sender == guardian || msg.sender == owner, "not guardian");
        paused = true;
        emit Paused(msg.sender);
    }

    function unpause() external onlyOwner {
        paused = false;
    }

    // BUG (intended): no onlyOwner, anyone can take the vault over (while it is not paused).
    function setOwner(address next) external whenNotPaused {
        emit OwnerChanged(owner, next);
        owner = next;
    }

    /// Owner sweeps everything: ETH and the whole token balance.
    function drain(address payable to) external onlyOwner whenNotPaused {
        token.transfer(to, token.balanceOf(address(this)));
        (bool ok, ) = to.call{value: address(this).balance}("");
        require(ok, "send failed");
    }
}
